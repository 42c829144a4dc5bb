"""costbridge's built-in plugins, one per QBO entity type, registered by entry point."""
