from app.contractors.models import Contractor
from app.core.registry import KeyedTable
from app.core.types import table_of

contractors = KeyedTable(table_of(Contractor), "key", ("name", "kind", "active", "updated_at"))
