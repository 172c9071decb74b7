"""Extensions created unbound here and bound to an app in the factory."""

from backend.database import Database

db = Database()
