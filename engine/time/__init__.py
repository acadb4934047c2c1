"""Time: durations, UK working-day calendars and clocks (DESIGN §3.5, §4.7).

A leaf of the engine: it imports nothing of ours but `engine.errors`.
"""
