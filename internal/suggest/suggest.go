// Package suggest finds the name a typo most likely meant, for messages
// such as `unknown keyword "x-hiden"; did you mean "x-hidden"?`.
package suggest

// Closest returns the candidate nearest to name, when one is within
// maxEdits edits (Levenshtein, in bytes) and differs from it; "" otherwise.
// Of two candidates equally near, the first wins.
func Closest(name string, candidates []string, maxEdits int) string {
	best, bestDist := "", maxEdits+1
	for _, c := range candidates {
		if d := Distance(name, c); d > 0 && d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b, in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
