"""What differs between the supported ESPnet releases (202511 to the newest), in one place."""
