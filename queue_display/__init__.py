"""Hall display and counter displays."""

from flask import Blueprint, render_template

bp = Blueprint("queue_display", __name__, url_prefix="/display", template_folder="templates",
               static_folder="static")


@bp.get("/")
def hall() -> str:
    return render_template("queue_display/hall.html")
