"""Storage: the only place that speaks SQL (SQLAlchemy models, repositories, migrations)."""
