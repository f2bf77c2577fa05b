date > /data/seeded-at
