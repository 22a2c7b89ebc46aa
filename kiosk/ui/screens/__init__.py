"""One module and one .kv file per screen (the staff screen: one more per tab). Which
screens there are: kiosk/ui/screen_registry.py."""
