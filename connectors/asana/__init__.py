"""Asana: projects, tasks, subtasks, milestones, dependencies, portfolios and status updates."""
