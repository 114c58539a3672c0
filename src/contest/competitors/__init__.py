"""Competitors' desk (issue 17): their own results, certificates (获奖证书) and their verification."""
