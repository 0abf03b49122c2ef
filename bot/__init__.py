"""AIF-C01 Domain 3 quiz bot: one async quiz engine behind Discord, Slack and terminal adapters."""

__version__ = "0.1.0"
