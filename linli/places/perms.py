"""Permission names owned by the places app (granted to roles in accounts.roles)."""

VIEW_PLACE = "places.view_place"
MANAGE_PLACES = "places.manage_places"
