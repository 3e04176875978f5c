import './base.css';
import './tabs.css';
import './lists.css';
import './main.css';
import './loop.css';
