"""blocklab's lab: everything that is not the censor (scenarios, network, services, CLI)."""
