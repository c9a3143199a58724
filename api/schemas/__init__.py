"""marshmallow schemas: separate load and dump schemas per resource; unknown fields are errors."""
