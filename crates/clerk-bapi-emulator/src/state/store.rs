//! A map with a capacity that evicts its oldest entry, so a long-running emulator (or a test
//! that mints in a loop) cannot grow without bound.

use std::collections::{HashMap, VecDeque};

#[derive(Debug)]
pub struct BoundedStore<V> {
    items: HashMap<String, V>,
    /// Keys in insertion order (oldest first); always the same key set as `items`.
    order: VecDeque<String>,
    capacity: usize,
}

impl<V> BoundedStore<V> {
    /// A store holding at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> BoundedStore<V> {
        BoundedStore { items: HashMap::new(), order: VecDeque::new(), capacity: capacity.max(1) }
    }

    /// Inserts (or replaces) `key`; returns the entries evicted to make room, oldest first.
    pub fn insert(&mut self, key: String, value: V) -> Vec<V> {
        if let Some(slot) = self.items.get_mut(&key) {
            *slot = value;
            return Vec::new();
        }
        let mut evicted = Vec::new();
        while self.items.len() >= self.capacity {
            let Some(oldest) = self.order.pop_front() else { break };
            if let Some(v) = self.items.remove(&oldest) {
                evicted.push(v);
            }
        }
        self.order.push_back(key.clone());
        self.items.insert(key, value);
        evicted
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.items.get(key)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.items.get_mut(key)
    }

    /// Entries, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &V> {
        self.order.iter().rev().filter_map(|k| self.items.get(k))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Removes every entry `doomed` picks; returns them, oldest first.
    pub fn remove_where(&mut self, mut doomed: impl FnMut(&V) -> bool) -> Vec<V> {
        let mut removed = Vec::new();
        let items = &mut self.items;
        self.order.retain(|k| match items.get(k) {
            Some(v) if doomed(v) => {
                removed.extend(items.remove(k));
                false
            }
            _ => true,
        });
        removed
    }

    /// Entries with their keys, oldest first (the order a snapshot restores).
    pub fn oldest_first(&self) -> impl Iterator<Item = (&str, &V)> {
        self.order.iter().filter_map(|k| self.items.get(k).map(|v| (k.as_str(), v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_at_capacity() {
        let mut s = BoundedStore::new(2);
        assert!(s.insert("a".into(), 1).is_empty());
        assert!(s.insert("b".into(), 2).is_empty());
        assert_eq!(s.insert("c".into(), 3), vec![1]);
        assert_eq!(s.len(), 2);
        assert!(s.get("a").is_none());
        assert_eq!(s.newest_first().copied().collect::<Vec<_>>(), [3, 2]);
    }

    #[test]
    fn replacing_a_key_does_not_evict_or_reorder() {
        let mut s = BoundedStore::new(2);
        s.insert("a".into(), 1);
        s.insert("b".into(), 2);
        assert!(s.insert("a".into(), 10).is_empty());
        assert_eq!(s.newest_first().copied().collect::<Vec<_>>(), [2, 10]);
        *s.get_mut("b").unwrap() = 20;
        assert_eq!(s.get("b"), Some(&20));
    }

    #[test]
    fn remove_where_keeps_order_of_the_rest() {
        let mut s = BoundedStore::new(5);
        for (k, v) in [("a", 1), ("b", 2), ("c", 3), ("d", 4)] {
            s.insert(k.into(), v);
        }
        assert_eq!(s.remove_where(|v| v % 2 == 0), vec![2, 4]);
        assert_eq!(s.oldest_first().collect::<Vec<_>>(), [("a", &1), ("c", &3)]);
        assert_eq!(s.len(), 2);
        s.insert("e".into(), 5);
        assert_eq!(s.newest_first().copied().collect::<Vec<_>>(), [5, 3, 1]);
    }

    #[test]
    fn zero_capacity_means_one() {
        let mut s = BoundedStore::new(0);
        s.insert("a".into(), 1);
        assert_eq!(s.insert("b".into(), 2), vec![1]);
        assert_eq!(s.len(), 1);
    }
}
