"""A throwaway JSON endpoint that writes, for testing the API's CSRF rule (token calls exempt, cookie calls not)."""

from flask import jsonify

from govrisk.api.views import api_blueprint

bp = api_blueprint("api_probe", __name__, "/api/v1/probe")


@bp.post("/echo")
def echo():
    from flask_login import current_user

    return jsonify({"user": current_user.username if current_user.is_authenticated else None})
