"""Stripe. Imported only by the functions that take payments, refund or read Stripe's webhook."""
