"""Nurture workflows: triggers, steps, versions, the engine, the simulator."""
