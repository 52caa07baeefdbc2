"""Electronic supervision (科技防控): step events of power-operation cases, alerts, dashboard."""
