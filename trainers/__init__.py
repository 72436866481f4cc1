"""Offline trainers: read ../shared/data (or --data-dir), write pretrained/<artifact>/."""
