"""The runtime: compiled machines and the `Engine` that runs events on a store (DESIGN §4).

`machine` compiles a `Workflow` into one shared `transitions` machine and the rules of each
event (the only module that imports `transitions`); `judgement` judges one event against
those rules (`roles`, `eventdata`, `context`, `effects`); `commit` writes an accepted step
through the store's unit of work; `views` shapes what reads return; `engine` is the facade.
"""
