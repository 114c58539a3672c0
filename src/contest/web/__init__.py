"""Web plumbing shared by capabilities: templating, i18n, guards, errors, dependencies."""
