"""Recoveries: one module per failure kind, each stating its evidence rule in its docstring.

`plan.decide(context)` asks each strategy in turn; the first that applies returns a Decision:
steps to apply (each recorded as a report Action with its evidence) or a Refusal that says what a
human must decide. A new recovery is one new module plus its tests, registered in plan.STRATEGIES.
"""
