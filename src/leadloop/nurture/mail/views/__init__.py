"""The pages of marketing e-mail: `public` (the links in a mail, no login) and `manage`
(templates, suppression list, a lead's marketing mails; marketing and admins)."""
