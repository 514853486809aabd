"""The lead's health page: RQ queues and failed jobs (with a retry), Redis
reachable or not, the last month close and the last Stripe webhook."""

from flask import Blueprint

bp = Blueprint("health", __name__, template_folder="templates")
