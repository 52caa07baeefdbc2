"""Signals other domains listen to (blinker)."""

from blinker import Namespace

_signals = Namespace()

workflow_fired = _signals.signal("workflow-fired")  # sender: the object; kwargs: transition, event, actor
deadline_escalated = _signals.signal("deadline-escalated")  # sender: the object; kwargs: level, rule
