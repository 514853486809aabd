"""Payment pages and the Stripe webhook."""

from app.access import install_client_scope
from app.payments import bp

install_client_scope(bp)
