"""Store members. Filled by the customers issue; the app exists so the layout is complete."""
