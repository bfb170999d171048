"""Check-in: follow-up of patients with muscle weakness by SMS and voice."""
