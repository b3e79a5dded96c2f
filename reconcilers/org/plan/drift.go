package plan

// ClassifyDrift marks the changes that undo a change made on GitHub by
// hand: those whose object the configuration describes exactly as it did
// when bowline last applied a plan (baseline, that plan's Index). When the
// configuration changed the object, or nothing was applied yet (a nil
// baseline), the change is the configuration's, not drift.
//
// An object the configuration does not describe (a member added by hand)
// is absent from both indexes, so removing it is drift too once a plan has
// been applied.
func (p *Plan) ClassifyDrift(baseline map[string]string) {
	for i := range p.Changes {
		c := &p.Changes[i]
		c.Drift = baseline != nil && p.Index[c.Key] == baseline[c.Key]
	}
}

// Drifted lists the changes that undo drift.
func (p *Plan) Drifted() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Drift {
			out = append(out, c)
		}
	}
	return out
}
