"""Business notices: a rule or a launch every clerk in the audience must read, acknowledge
and, where there is a quiz, pass; with a per-branch compliance record."""
