"""Training: one engine (engine.py) runs every Task (tasks/)."""
