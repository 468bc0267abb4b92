"""Infrastructure shared by every domain: errors, pages of results, mail, rate limits, addresses, images, PDF layout, storage, ZIP writing."""
