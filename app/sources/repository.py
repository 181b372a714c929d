from app.core.registry import KeyedTable
from app.core.types import table_of
from app.sources.models import DataSource

data_sources = KeyedTable(table_of(DataSource), "key", ("name", "kind", "url", "updated_at"))
