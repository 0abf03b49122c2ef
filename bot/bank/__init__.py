"""The question bank: YAML files validated against a JSON Schema, loaded all or nothing."""

from bot.bank.loader import BankError, Problem, load_bank, validate_paths

__all__ = ["BankError", "Problem", "load_bank", "validate_paths"]
