"""The booking API's shared layer: booking rules, DynamoDB store, HTTP plumbing."""
