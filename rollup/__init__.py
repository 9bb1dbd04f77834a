"""The roll-up engine: pure domain logic from work items to program status."""
