"""Lobby kiosk pages: pick a field, get a ticket."""

from flask import Blueprint, render_template

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk", template_folder="templates",
               static_folder="static")


@bp.get("/")
def home() -> str:
    return render_template("kiosk/home.html")
