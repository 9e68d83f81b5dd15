"""Storage: the schema, the engine, the migrations, the audit trail and the API keys."""
