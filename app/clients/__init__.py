from flask import Blueprint

bp = Blueprint("clients", __name__, template_folder="templates")
