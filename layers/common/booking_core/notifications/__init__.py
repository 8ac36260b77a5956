"""Emails to users and venue operators: composed here, sent through Mailgun or captured."""
