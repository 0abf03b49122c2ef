"""Platform adapters: parse an event, call the engine, render the card. No rules here."""
