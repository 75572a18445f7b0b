"""What people read: the explanation page (report), the results page (results), the experiments side by side
(compare)."""
