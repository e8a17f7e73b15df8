"""Satisfaction ratings (đánh giá mức độ hài lòng): one per finished ticket or dossier."""
