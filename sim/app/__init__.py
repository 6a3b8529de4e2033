"""The planner's workbench in the browser (``casesim-app``): a Shiny app over the same
functions the commands use.

- ``main.py``: the command; ``server.py``: the Shiny app; ``page.py``: what the page shows;
- ``fields.py``: the levers as form fields, ``dictionary.py`` the data dictionary they quote;
- ``scenarios.py``: a scenario as the page holds it (a starting point and overrides), its YAML;
- ``jobs.py``: jobs in processes of their own, ``job.py``: one job's process.
"""
