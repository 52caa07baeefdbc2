"""The power catalog (职权目录): powers, legal basis, responsibility items, discretion standards, publication."""
