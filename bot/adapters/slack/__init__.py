"""The Slack adapter: /quiz, Block Kit rounds, modals and App Home over the shared engine (slack-bolt)."""
