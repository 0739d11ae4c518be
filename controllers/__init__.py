"""The censor: pure policy and DPI code, under a thin os-ken app (controllers.openflow.app)."""
