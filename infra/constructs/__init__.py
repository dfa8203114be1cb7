"""One construct per capability; ``infra/stack.py`` composes them into the Tally stack."""
