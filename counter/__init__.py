"""Clerk workstation and rating tablet."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("counter", __name__, url_prefix="/counter", template_folder="templates",
               static_folder="static")


@bp.get("/")
@login_required
def workstation() -> str:
    return render_template("counter/workstation.html")
