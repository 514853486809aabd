"""Names for the generated agency: French small businesses of the Alps and
the people who run them and serve them."""

from __future__ import annotations

import random
import unicodedata

TRADES = (
    "Boulangerie",
    "Fromagerie",
    "Restaurant",
    "Salon de coiffure",
    "Garage",
    "Cabinet de kinésithérapie",
    "Fleuriste",
    "Librairie",
    "Caviste",
    "Boucherie",
    "Agence immobilière",
    "Institut de beauté",
    "Salle de sport",
    "Menuiserie",
    "Auto-école",
    "Hôtel",
    "Chocolaterie",
    "Opticien",
    "Pharmacie",
    "Camping",
)
# Trades whose shops in one town compete: their clients get a competitor group.
COMPETITIVE_TRADES = frozenset(
    {"Boulangerie", "Restaurant", "Salon de coiffure", "Garage", "Agence immobilière"}
)

CITIES = (
    ("Annecy", "74000"),
    ("Chambéry", "73000"),
    ("Aix-les-Bains", "73100"),
    ("Thonon-les-Bains", "74200"),
    ("Annemasse", "74100"),
    ("Grenoble", "38000"),
    ("Albertville", "73200"),
    ("Rumilly", "74150"),
)

SURNAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Perrin",
    "Morin",
)
FIRST_NAMES = (
    "Léa",
    "Camille",
    "Manon",
    "Chloé",
    "Inès",
    "Julie",
    "Sarah",
    "Emma",
    "Lucie",
    "Pauline",
    "Hugo",
    "Lucas",
    "Thomas",
    "Nathan",
    "Théo",
    "Louis",
    "Antoine",
    "Maxime",
    "Julien",
    "Nicolas",
)
SUFFIXES = ("& Fils", "et Cie", "du Lac", "des Alpes", "du Centre", "de la Gare", "Père et Fille", "Frères")
STREETS = (
    "rue Royale",
    "avenue de Genève",
    "rue Sommeiller",
    "rue Carnot",
    "place du Marché",
    "quai Jules Ferry",
)
CHANNELS = ["facebook", "instagram", "linkedin", "tiktok", "blog", "newsletter"]
CONTRACT_TITLES = ("Community management", "Animation des réseaux sociaux", "Réseaux sociaux et blog")

AGENCY = {
    "legal_name": "Agence Relais Bench",
    "legal_form": "SAS",
    "address_line": "8 avenue du Parmelan",
    "postal_code": "74000",
    "city": "Annecy",
    "country_code": "FR",
    "email": "contact@agence-bench.example",
    "phone": "04 50 12 34 56",
    "siren": "443061841",
    "siret": "44306184100013",
    "vat_number": "FR64443061841",
    "iban": "FR7630006000011234567890189",
    "bic": "BNPAFRPP",
    "vat_regime": "normal",
    "payment_terms_days": 30,
}


def people(rnd: random.Random, count: int) -> list[str]:
    return [f"{rnd.choice(FIRST_NAMES)} {rnd.choice(SURNAMES)}" for _ in range(count)]


def slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in plain).split())
