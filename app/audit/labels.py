"""Readable French names of the audit log's actions (unknown ones show raw)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

ACTION_LABELS: dict[str, Any] = {
    # accounts
    "user.invited": _l("Invitation envoyée"),
    "user.invitation_resent": _l("Invitation renvoyée"),
    "user.invitation_accepted": _l("Invitation acceptée"),
    "user.password_set": _l("Mot de passe choisi"),
    "user.password_reset": _l("Mot de passe réinitialisé"),
    "user.password_changed": _l("Mot de passe modifié"),
    "user.updated": _l("Compte modifié"),
    "user.created": _l("Compte créé"),
    "user.deactivated": _l("Compte désactivé"),
    "user.reactivated": _l("Compte réactivé"),
    # clients and their CMs
    "client.created": _l("Client créé"),
    "client.updated": _l("Client modifié"),
    "client.archived": _l("Client archivé"),
    "client.unarchived": _l("Client réactivé"),
    "assignment.created": _l("CM affecté"),
    "assignment.ended": _l("Affectation terminée"),
    "assignment.cancelled": _l("Affectation annulée"),
    "wall.override": _l("Dérogation au mur éthique"),
    "competitor_group.created": _l("Groupe de concurrents créé"),
    "competitor_group.updated": _l("Groupe de concurrents modifié"),
    "competitor_group.deleted": _l("Groupe de concurrents supprimé"),
    # the agency
    "settings.updated": _l("Paramètres de l'agence modifiés"),
    "settings.logo_updated": _l("Logo de l'agence changé"),
    "settings.logo_removed": _l("Logo de l'agence retiré"),
    # contracts and time
    "contract.created": _l("Contrat créé"),
    "contract.updated": _l("Contrat modifié"),
    "contract.terms_added": _l("Nouvelles conditions du contrat"),
    "month.locked": _l("Mois clôturé"),
    "month.reopened": _l("Mois rouvert"),
    "activity.created": _l("Activité ajoutée"),
    "activity.retired": _l("Activité retirée"),
    "activity.reactivated": _l("Activité rétablie"),
    # reports
    "report.publish_requested": _l("Publication du rapport demandée"),
    "report.published": _l("Rapport publié"),
    "report.approved": _l("Rapport approuvé par le client"),
    "report.question": _l("Question du client sur le rapport"),
    "report.answered": _l("Réponse à une question sur le rapport"),
    "report.shared": _l("Lien de partage créé"),
    "report.share_revoked": _l("Lien de partage révoqué"),
    # invoices and payments
    "invoice.drafted": _l("Brouillon de facture préparé"),
    "invoice.updated": _l("Brouillon de facture modifié"),
    "invoice.refreshed": _l("Brouillon de facture recalculé"),
    "invoice.ceiling": _l("Décision sur le plafond du budget"),
    "invoice.draft_deleted": _l("Brouillon de facture supprimé"),
    "invoice.issued": _l("Facture ou avoir émis"),
    "invoice.credit_drafted": _l("Avoir préparé"),
    "invoice.sent": _l("Facture annoncée au client"),
    "invoice.reminded": _l("Relance de paiement envoyée"),
    "invoice.payment": _l("Paiement enregistré"),
    "invoice.refund": _l("Remboursement enregistré"),
    "payment.card_started": _l("Paiement par carte commencé"),
}

# Actions worth a second look in the log.
SENSITIVE_ACTIONS = frozenset(
    {
        "wall.override",
        "user.deactivated",
        "client.archived",
        "settings.updated",
        "month.reopened",
        "competitor_group.deleted",
        "invoice.credit_drafted",
        "invoice.refund",
    }
)


def action_label(action: str) -> str:
    """The French label of `action`, or the action itself when unknown."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action
