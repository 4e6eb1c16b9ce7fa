"""The app (app.py, app_pages/, studio/) through AppTest and in a real browser."""
